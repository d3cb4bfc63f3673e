output "site_fqdn" {
  description = "Host name of the site."
  value       = module.dns.fqdn
}

output "app_host_instance_id" {
  description = "Instance ID of the (first) app host, for `aws ssm start-session --target`."
  value       = module.app_host.instance_id
}

output "app_host_instance_ids" {
  description = "Instance IDs of all app hosts."
  value       = module.app_host.instance_ids
}

output "app_host_public_ipv4" {
  description = "Elastic IP of the (first) app host."
  value       = module.app_host.public_ipv4
}

output "app_host_private_ipv4s" {
  description = "Private addresses of the app hosts: the balancer's upstreams in the Ansible inventory."
  value       = module.app_host.private_ipv4s
}

output "balancer_instance_id" {
  description = "Instance ID of the balancer host (null with a single app host)."
  value       = try(module.balancer[0].instance_id, null)
}

output "balancer_private_ipv4" {
  description = "Private address of the balancer host, where the app hosts ship their logs (null with a single app host)."
  value       = try(module.balancer[0].private_ipv4, null)
}

output "uploads_bucket" {
  description = "The uploads bucket, for UPLOADS_S3_BUCKET (null unless uploads_storage is s3)."
  value       = module.uploads_storage.bucket_name
}

output "ansible_group" {
  description = "Inventory group (tag AnsibleGroup) of the host."
  value       = module.app_host.ansible_group
}

output "secrets_parameter_prefix" {
  description = "SSM path of the app's secrets (names only; values never leave SSM)."
  value       = module.secrets.parameter_prefix
}

output "smtp_key_parameter" {
  description = "Parameter to put the Brevo SMTP key into with aws ssm put-parameter --overwrite."
  value       = module.secrets.parameter_names.smtp_key
}

output "database_url_template" {
  description = "DATABASE_URL without the password, when the managed database is on."
  value       = try(module.database[0].database_url_template, null)
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.alarms.topic_arn
}
