output "instance_id" {
  description = "ID of the (first) app host."
  value       = aws_instance.this[0].id
}

output "instance_ids" {
  description = "IDs of all app hosts, in order."
  value       = aws_instance.this[*].id
}

output "availability_zone" {
  description = "Zone of the first host; its own uploads volume (EBS) must be created in the same one."
  value       = aws_instance.this[0].availability_zone
}

output "public_ipv4" {
  description = "The (first) host's Elastic IP, for the A record of a single-host install."
  value       = aws_eip.this[0].public_ip
}

output "public_ipv6" {
  description = "The (first) host's first IPv6 address (null without IPv6), for the AAAA record."
  value       = try(aws_instance.this[0].ipv6_addresses[0], null)
}

output "private_ipv4s" {
  description = "Private addresses of all app hosts, in order: the balancer's upstreams and Prometheus' targets."
  value       = aws_instance.this[*].private_ip
}

output "role_name" {
  description = "Name of the host's IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the host's IAM role, for key policies that admit only this host."
  value       = aws_iam_role.this.arn
}

output "ansible_group" {
  description = "Inventory group name the host is tagged with (tag AnsibleGroup)."
  value       = "bookdesk_${var.environment}"
}

output "deploy_user" {
  description = "Account Ansible connects as."
  value       = var.deploy_user
}

output "instance_type" {
  description = "Instance type, so alarms know whether CPU credits apply."
  value       = var.instance_type
}
