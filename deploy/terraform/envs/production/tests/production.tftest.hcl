# Plans the whole production composition against mocked providers: the modules fit
# together, and the domain-wide mail records come out as Brevo documents them.
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
  domain            = "example.org"
  zone_id           = "Z0123456789ABCDEFGHIJ"
  brevo_code        = "brevo-code:0123456789abcdef"
  brevo_dkim_cnames = { brevo1 = "b1.example-org.dkim.brevo.com", brevo2 = "b2.example-org.dkim.brevo.com" }
  dmarc_rua         = ["dmarc@example.org"]
  alert_emails      = ["ops@example.org"]
  smtp_login        = "login@example.org"
}

run "production_plans_with_mail_records_and_managed_database" {
  command = plan

  assert {
    condition     = module.dns.spf_record == "v=spf1 include:spf.brevo.com ~all"
    error_message = "SPF must include Brevo."
  }

  assert {
    condition     = module.dns.dmarc_record == "v=DMARC1; p=none; rua=mailto:dmarc@example.org; adkim=r; aspf=r"
    error_message = "DMARC must report to the given address."
  }

  assert {
    condition     = length(module.database) == 1
    error_message = "Production uses the managed database by default."
  }

  assert {
    condition     = output.site_fqdn == "bookdesk.example.org"
    error_message = "The site name is bookdesk.<domain>."
  }
}

run "scaled_out_behind_a_balancer_with_a_shared_bucket" {
  command = plan

  variables {
    app_host_count  = 2
    uploads_storage = "s3"
  }

  assert {
    condition     = length(module.balancer) == 1 && length(module.app_host.instance_ids) == 2
    error_message = "Two app hosts behind one balancer host."
  }

  assert {
    condition     = module.network.balancer_security_group_id != null && module.uploads_storage.kind == "s3"
    error_message = "The balancer gets its security group; uploads go to the bucket."
  }
}

run "several_app_hosts_refuse_a_private_volume" {
  command = plan

  variables {
    app_host_count = 2
  }

  expect_failures = [var.app_host_count]
}
