# A VPC in two zones with no SSH at all (SSM Session Manager only).
provider "aws" {
  region = "eu-central-1"
}

module "network" {
  source = "../../"

  name               = "bookdesk-example"
  availability_zones = ["eu-central-1a", "eu-central-1b"]
  admin_ssh_cidrs    = []
  tags               = { Project = "bookdesk", Environment = "example" }
}

output "app_security_group_id" {
  description = "Group to give the app host."
  value       = module.network.app_security_group_id
}
