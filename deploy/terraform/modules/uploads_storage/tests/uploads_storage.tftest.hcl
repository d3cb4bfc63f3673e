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
    condition     = aws_ebs_volume.uploads[0].encrypted == true
    error_message = "The uploads volume must be encrypted."
  }

  assert {
    condition     = aws_dlm_lifecycle_policy.uploads[0].policy_details[0].target_tags["BookdeskSnapshots"] == aws_ebs_volume.uploads[0].tags["BookdeskSnapshots"]
    error_message = "The snapshot policy must target the uploads volume's tag."
  }

  assert {
    condition     = aws_dlm_lifecycle_policy.uploads[0].policy_details[0].schedule[0].retain_rule[0].count == 14
    error_message = "Fourteen daily snapshots are kept by default."
  }
}

run "shared_volume_for_several_hosts" {
  command = plan

  variables {
    kind               = "efs"
    availability_zone  = null
    instance_id        = null
    subnet_ids         = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  assert {
    condition     = length(aws_ebs_volume.uploads) == 0 && aws_efs_file_system.uploads[0].encrypted == true
    error_message = "The shared volume replaces the EBS disk and is encrypted."
  }

  assert {
    condition     = length(aws_efs_mount_target.uploads) == 2 && aws_efs_backup_policy.uploads[0].backup_policy[0].status == "ENABLED"
    error_message = "One mount target per zone, and backups on."
  }
}

run "bucket_for_object_storage" {
  command = plan

  variables {
    kind              = "s3"
    availability_zone = null
    instance_id       = null
    access_role_name  = "bookdesk-test-app-host"
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.uploads[0].restrict_public_buckets == true && aws_s3_bucket_versioning.uploads[0].versioning_configuration[0].status == "Enabled"
    error_message = "The bucket is private and versioned."
  }

  assert {
    condition     = aws_iam_role_policy.app_access[0].role == "bookdesk-test-app-host"
    error_message = "Only the app hosts' role gets access."
  }
}
