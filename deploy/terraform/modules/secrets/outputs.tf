# Names and ARNs only: no output carries a secret value.

output "parameter_prefix" {
  description = "SSM path holding every secret of this environment."
  value       = var.parameter_prefix
}

output "parameter_path_arn" {
  description = "ARN pattern matching every parameter under the prefix, for the app host's IAM policy."
  value       = "arn:${data.aws_partition.current.partition}:ssm:*:${data.aws_caller_identity.current.account_id}:parameter${var.parameter_prefix}/*"
}

output "parameter_names" {
  description = "Name of each parameter, by what it holds."
  value = {
    secret_key        = aws_ssm_parameter.secret_key.name
    database_password = aws_ssm_parameter.database_password.name
    smtp_login        = aws_ssm_parameter.smtp_login.name
    smtp_key          = aws_ssm_parameter.smtp_key.name
  }
}

output "kms_key_arn" {
  description = "KMS key that encrypts the parameters."
  value       = aws_kms_key.secrets.arn
}

output "database_password" {
  description = "The generated database password, for the database module only. Sensitive: never printed."
  value       = random_password.database.result
  sensitive   = true
}
