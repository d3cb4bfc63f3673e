output "instance_id" {
  description = "ID of the balancer host."
  value       = aws_instance.this.id
}

output "public_ipv4" {
  description = "The balancer's Elastic IP, for the site's A record."
  value       = aws_eip.this.public_ip
}

output "public_ipv6" {
  description = "The balancer's first IPv6 address (null without IPv6), for the AAAA record."
  value       = try(aws_instance.this.ipv6_addresses[0], null)
}

output "private_ipv4" {
  description = "Private address of the balancer: where the app hosts ship their logs."
  value       = aws_instance.this.private_ip
}

output "instance_type" {
  description = "Instance type, so alarms know whether CPU credits apply."
  value       = aws_instance.this.instance_type
}
