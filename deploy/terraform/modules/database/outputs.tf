output "address" {
  description = "Host name of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the app's database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "User the app connects as (its password is in the secrets module's parameter)."
  value       = aws_db_instance.this.username
}

output "database_url_template" {
  description = "DATABASE_URL without the password; Ansible fills PASSWORD from SSM."
  value       = "postgres://${aws_db_instance.this.username}:PASSWORD@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${aws_db_instance.this.db_name}?sslmode=require"
}

output "instance_id" {
  description = "Identifier of the RDS instance."
  value       = aws_db_instance.this.identifier
}
