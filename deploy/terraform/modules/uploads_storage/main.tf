# Uploads live on their own encrypted EBS volume, so they survive a rebuilt host and can
# be snapshotted without the root disk. Data Lifecycle Manager takes the snapshots.
# (Several app hosts would need EFS instead; Bookdesk runs blue/green on one host.)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "uploads" {
  description             = "${var.name}: uploads volume and its snapshots"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_ebs_volume" "uploads" {
  availability_zone = var.availability_zone
  size              = var.size_gb
  type              = "gp3"
  encrypted         = true
  kms_key_id        = aws_kms_key.uploads.arn

  tags = merge(var.tags, {
    Name = "${var.name}-uploads"
    # Data Lifecycle Manager picks volumes by this tag.
    BookdeskSnapshots = var.name
  })

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_volume_attachment" "uploads" {
  device_name = var.device_name
  volume_id   = aws_ebs_volume.uploads.id
  instance_id = var.instance_id
  # On destroy, stop the instance first rather than yank a mounted file system.
  stop_instance_before_detaching = true
}

# --- Scheduled snapshots -----------------------------------------------------------------

data "aws_iam_policy_document" "dlm_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["dlm.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dlm" {
  name               = "${var.name}-uploads-snapshots"
  assume_role_policy = data.aws_iam_policy_document.dlm_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "dlm" {
  role       = aws_iam_role.dlm.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"
}

resource "aws_dlm_lifecycle_policy" "uploads" {
  description        = "${var.name}: daily snapshots of the uploads volume"
  execution_role_arn = aws_iam_role.dlm.arn
  state              = "ENABLED"

  policy_details {
    resource_types = ["VOLUME"]
    target_tags = {
      BookdeskSnapshots = var.name
    }

    schedule {
      name      = "daily"
      copy_tags = true

      create_rule {
        interval      = 24
        interval_unit = "HOURS"
        times         = var.snapshot_times
      }

      retain_rule {
        count = var.snapshot_retain_count
      }

      tags_to_add = {
        SnapshotCreator = "dlm"
      }
    }
  }

  tags = var.tags
}
