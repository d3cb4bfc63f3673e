# Status, CPU-credit and disk alarms for one host, mailed to the operators.
provider "aws" {
  region = "eu-central-1"
}

module "alarms" {
  source = "../../"

  name          = "bookdesk-example"
  alert_emails  = ["ops@example.org"]
  instance_id   = "i-0123456789abcdef0"
  instance_type = "t3.small"
}

output "alarm_names" {
  description = "The alarms created."
  value       = module.alarms.alarm_names
}
