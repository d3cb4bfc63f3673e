# Plans the staging composition against mocked providers: a single host with PostgreSQL
# on it, and no domain-wide DNS records (production owns them).
# Run with `terraform init -backend=false && terraform test`.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
}

mock_provider "random" {}

variables {
  domain       = "example.org"
  zone_id      = "Z0123456789ABCDEFGHIJ"
  alert_emails = ["ops@example.org"]
  smtp_login   = "login@example.org"
}

run "staging_is_a_single_host_install" {
  command = plan

  assert {
    condition     = length(module.database) == 0
    error_message = "Staging runs PostgreSQL on the host by default."
  }

  assert {
    condition     = output.site_fqdn == "bookdesk-staging.example.org"
    error_message = "Staging answers on bookdesk-staging.<domain>."
  }

  assert {
    condition     = output.secrets_parameter_prefix == "/bookdesk/staging"
    error_message = "Staging secrets live under /bookdesk/staging."
  }
}
