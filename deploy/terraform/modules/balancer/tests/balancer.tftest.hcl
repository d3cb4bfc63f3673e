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
  name               = "bookdesk-test"
  environment        = "production"
  ami_id             = "ami-0123456789abcdef0"
  subnet_id          = "subnet-0123456789abcdef0"
  security_group_ids = ["sg-0123456789abcdef0"]
}

run "hardened_balancer" {
  command = plan

  assert {
    condition     = aws_instance.this.metadata_options[0].http_tokens == "required" && aws_instance.this.root_block_device[0].encrypted == true
    error_message = "IMDSv2 and an encrypted root volume are required."
  }

  assert {
    condition     = aws_instance.this.tags["AnsibleFunction"] == "bookdesk_balancer" && aws_instance.this.tags["AnsibleGroup"] == "bookdesk_production"
    error_message = "The inventory tags are missing."
  }
}
