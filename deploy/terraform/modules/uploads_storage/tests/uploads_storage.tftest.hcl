mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name              = "bookdesk-test"
  availability_zone = "eu-central-1a"
  instance_id       = "i-0123456789abcdef0"
}

run "encrypted_and_snapshotted" {
  command = plan

  assert {
    condition     = aws_ebs_volume.uploads.encrypted == true
    error_message = "The uploads volume must be encrypted."
  }

  assert {
    condition     = aws_dlm_lifecycle_policy.uploads.policy_details[0].target_tags["BookdeskSnapshots"] == aws_ebs_volume.uploads.tags["BookdeskSnapshots"]
    error_message = "The snapshot policy must target the uploads volume's tag."
  }

  assert {
    condition     = aws_dlm_lifecycle_policy.uploads.policy_details[0].schedule[0].retain_rule[0].count == 14
    error_message = "Fourteen daily snapshots are kept by default."
  }
}
