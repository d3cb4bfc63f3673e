# The app's secrets under /bookdesk/example; the SMTP key is set afterwards with
#   aws ssm put-parameter --overwrite --type SecureString --name /bookdesk/example/SMTP_KEY --value ...
provider "aws" {
  region = "eu-central-1"
}

variable "smtp_login" {
  description = "Login of the SMTP relay account (give it as TF_VAR_smtp_login)."
  type        = string
  sensitive   = true
}

module "secrets" {
  source = "../../"

  name             = "bookdesk-example"
  parameter_prefix = "/bookdesk/example"
  smtp_login       = var.smtp_login
}

output "parameter_names" {
  description = "Names of the parameters (never their values)."
  value       = module.secrets.parameter_names
}
