# Managed PostgreSQL 15 with a generated password (in real use: the secrets module's).
provider "aws" {
  region = "eu-central-1"
}

resource "random_password" "example" {
  length  = 40
  special = false
}

module "database" {
  source = "../../"

  name               = "bookdesk-example"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  security_group_ids = ["sg-0123456789abcdef0"]
  password           = random_password.example.result
  multi_az           = true
}

output "database_url_template" {
  description = "DATABASE_URL without its password."
  value       = module.database.database_url_template
}
