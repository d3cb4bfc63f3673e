# One app host in an existing public subnet, reading secrets under /bookdesk/example.
provider "aws" {
  region = "eu-central-1"
}

module "app_host" {
  source = "../../"

  name                  = "bookdesk-example"
  environment           = "staging"
  subnet_ids            = ["subnet-0123456789abcdef0"]
  security_group_ids    = ["sg-0123456789abcdef0"]
  secret_parameter_arns = ["arn:aws:ssm:eu-central-1:123456789012:parameter/bookdesk/example/*"]
  secret_kms_key_arns   = ["arn:aws:kms:eu-central-1:123456789012:key/00000000-0000-0000-0000-000000000000"]
}

output "instance_id" {
  description = "ID of the host."
  value       = module.app_host.instance_id
}
