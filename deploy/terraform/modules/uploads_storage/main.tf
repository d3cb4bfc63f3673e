# Where attachments live, one of three kinds (var.kind):
#   ebs  one app host: its own encrypted EBS volume, so uploads survive a rebuilt host and
#        are snapshotted without the root disk (Data Lifecycle Manager takes the snapshots);
#   efs  several app hosts sharing one volume: an encrypted EFS file system mounted over
#        NFS at the same path on every host (UPLOADS_STORAGE=filesystem, as with ebs);
#   s3   several app hosts and object storage: an encrypted, versioned bucket that only the
#        app hosts' role may use (UPLOADS_STORAGE=s3); downloads are short-lived signed URLs.
# See docs/infrastructure.md, "Scale-out", for how to choose.

locals {
  ebs = var.kind == "ebs" ? 1 : 0
  efs = var.kind == "efs" ? 1 : 0
  s3  = var.kind == "s3" ? 1 : 0
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "uploads" {
  description             = "${var.name}: uploads storage (${var.kind}) and its backups"
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

# --- ebs ---------------------------------------------------------------------------------

resource "aws_ebs_volume" "uploads" {
  count = local.ebs

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
  count = local.ebs

  device_name = var.device_name
  volume_id   = aws_ebs_volume.uploads[0].id
  instance_id = var.instance_id
  # On destroy, stop the instance first rather than yank a mounted file system.
  stop_instance_before_detaching = true
}

# --- Scheduled snapshots -----------------------------------------------------------------

data "aws_iam_policy_document" "dlm_assume" {
  count = local.ebs

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["dlm.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dlm" {
  count = local.ebs

  name               = "${var.name}-uploads-snapshots"
  assume_role_policy = data.aws_iam_policy_document.dlm_assume[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "dlm" {
  count = local.ebs

  role       = aws_iam_role.dlm[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"
}

resource "aws_dlm_lifecycle_policy" "uploads" {
  count = local.ebs

  description        = "${var.name}: daily snapshots of the uploads volume"
  execution_role_arn = aws_iam_role.dlm[0].arn
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

# The single volume of earlier versions.
moved {
  from = aws_ebs_volume.uploads
  to   = aws_ebs_volume.uploads[0]
}

moved {
  from = aws_volume_attachment.uploads
  to   = aws_volume_attachment.uploads[0]
}

moved {
  from = aws_iam_role.dlm
  to   = aws_iam_role.dlm[0]
}

moved {
  from = aws_iam_role_policy_attachment.dlm
  to   = aws_iam_role_policy_attachment.dlm[0]
}

moved {
  from = aws_dlm_lifecycle_policy.uploads
  to   = aws_dlm_lifecycle_policy.uploads[0]
}

# --- efs ---------------------------------------------------------------------------------

resource "aws_efs_file_system" "uploads" {
  count = local.efs

  encrypted        = true
  kms_key_id       = aws_kms_key.uploads.arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }

  tags = merge(var.tags, { Name = "${var.name}-uploads" })

  lifecycle {
    prevent_destroy = true
  }
}

# One mount target per zone, so every app host mounts from its own zone.
resource "aws_efs_mount_target" "uploads" {
  count = local.efs == 1 ? length(var.subnet_ids) : 0

  file_system_id  = aws_efs_file_system.uploads[0].id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = var.security_group_ids
}

# Daily backups by AWS Backup's default plan for EFS (35 days).
resource "aws_efs_backup_policy" "uploads" {
  count = local.efs

  file_system_id = aws_efs_file_system.uploads[0].id

  backup_policy {
    status = "ENABLED"
  }
}

# --- s3 ----------------------------------------------------------------------------------

resource "aws_s3_bucket" "uploads" {
  #checkov:skip=CKV_AWS_144:Versioning with a noncurrent-version window is the recovery path; a second region is not worth it at this size.
  #checkov:skip=CKV_AWS_18:The app audits every upload, download and delete itself; CloudTrail data events can be turned on where more is needed.
  #checkov:skip=CKV2_AWS_62:Nothing needs to react to uploads, so no event notifications.
  count = local.s3

  bucket_prefix = "${var.name}-uploads-"

  lifecycle {
    prevent_destroy = true
  }

  tags = merge(var.tags, { Name = "${var.name}-uploads" })
}

resource "aws_s3_bucket_versioning" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.uploads.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# A deleted or overwritten attachment stays recoverable for noncurrent_version_days.
resource "aws_s3_bucket_lifecycle_configuration" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "uploads_tls_only" {
  count = local.s3

  statement {
    sid     = "DenyPlainHttp"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.uploads[0].arn,
      "${aws_s3_bucket.uploads[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "uploads" {
  count = local.s3

  bucket = aws_s3_bucket.uploads[0].id
  policy = data.aws_iam_policy_document.uploads_tls_only[0].json
}

# The app hosts' role may read, write and delete objects in this bucket and nothing else.
data "aws_iam_policy_document" "app_access" {
  count = local.s3

  statement {
    sid       = "ListUploads"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.uploads[0].arn]
  }

  statement {
    sid       = "ReadWriteUploads"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.uploads[0].arn}/*"]
  }

  statement {
    sid       = "UseUploadsKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.uploads.arn]
  }
}

resource "aws_iam_role_policy" "app_access" {
  count = local.s3

  name   = "bookdesk-uploads-bucket"
  role   = var.access_role_name
  policy = data.aws_iam_policy_document.app_access[0].json
}
