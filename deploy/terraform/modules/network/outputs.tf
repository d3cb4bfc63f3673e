output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per availability zone, in the order of var.availability_zones."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per availability zone, for the managed database."
  value       = aws_subnet.private[*].id
}

output "app_security_group_id" {
  description = "Security group for the app hosts: 80/443 from anywhere (from the balancer group when enable_balancer), SSH from admin_ssh_cidrs only."
  value       = aws_security_group.app.id
}

output "database_security_group_id" {
  description = "Security group for the managed database: PostgreSQL from the app group only."
  value       = aws_security_group.database.id
}

output "balancer_security_group_id" {
  description = "Security group for the balancer host (null unless enable_balancer): 80/443 from anywhere, logs from the app group, scrapes of the app group."
  value       = try(aws_security_group.balancer[0].id, null)
}

output "uploads_nfs_security_group_id" {
  description = "Security group for the EFS mount targets (null unless enable_shared_uploads_volume): NFS from the app group only."
  value       = try(aws_security_group.uploads_nfs[0].id, null)
}

output "ssh_open" {
  description = "Whether any SSH rule exists (false means SSM Session Manager is the only way in)."
  value       = length(var.admin_ssh_cidrs) > 0
}
