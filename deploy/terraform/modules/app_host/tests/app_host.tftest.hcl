mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name                  = "bookdesk-test"
  environment           = "staging"
  ami_id                = "ami-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0"]
  security_group_ids    = ["sg-0123456789abcdef0"]
  secret_parameter_arns = ["arn:aws:ssm:eu-central-1:123456789012:parameter/bookdesk/staging/*"]
  secret_kms_key_arns   = ["arn:aws:kms:eu-central-1:123456789012:key/00000000-0000-0000-0000-000000000000"]
}

run "hardened_instance" {
  command = plan

  assert {
    condition     = aws_instance.this[0].metadata_options[0].http_tokens == "required"
    error_message = "IMDSv2 must be required."
  }

  assert {
    condition     = aws_instance.this[0].root_block_device[0].encrypted == true
    error_message = "The root volume must be encrypted."
  }

  assert {
    condition     = aws_instance.this[0].associate_public_ip_address == false
    error_message = "The host gets an Elastic IP, not a launch address."
  }

  assert {
    condition     = aws_instance.this[0].tags["AnsibleGroup"] == "bookdesk_staging"
    error_message = "The inventory tag is missing."
  }
}

run "refuses_unknown_environment" {
  command = plan

  variables {
    environment = "dev"
  }

  expect_failures = [var.environment]
}

run "several_hosts_spread_over_the_zones" {
  command = plan

  variables {
    host_count         = 3
    subnet_ids         = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
    uploads_nfs_target = "fs-0123456789abcdef0.efs.eu-central-1.amazonaws.com"
  }

  assert {
    condition     = length(aws_instance.this) == 3 && length(aws_eip.this) == 3
    error_message = "Each app host gets an instance and an address."
  }

  assert {
    condition     = [for i in aws_instance.this : i.subnet_id] == ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000a"]
    error_message = "Hosts are spread over the zones in turn."
  }

  assert {
    condition     = alltrue([for i in aws_instance.this : i.tags["AnsibleFunction"] == "bookdesk_app"])
    error_message = "Every app host carries its inventory function."
  }
}
