# A balancer (and monitoring) host in an existing public subnet.
provider "aws" {
  region = "eu-central-1"
}

module "balancer" {
  source = "../../"

  name               = "bookdesk-example"
  environment        = "production"
  subnet_id          = "subnet-0123456789abcdef0"
  security_group_ids = ["sg-0123456789abcdef0"]
}

output "public_ipv4" {
  description = "Address for the site's A record."
  value       = module.balancer.public_ipv4
}
