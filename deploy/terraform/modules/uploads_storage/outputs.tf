output "kind" {
  description = "The kind of uploads storage made: ebs, efs or s3."
  value       = var.kind
}

output "volume_id" {
  description = "ebs: ID of the uploads EBS volume (null otherwise)."
  value       = try(aws_ebs_volume.uploads[0].id, null)
}

output "kms_key_arn" {
  description = "KMS key that encrypts the storage and its backups."
  value       = aws_kms_key.uploads.arn
}

output "snapshot_policy_id" {
  description = "ebs: ID of the Data Lifecycle Manager policy that snapshots the volume (null otherwise)."
  value       = try(aws_dlm_lifecycle_policy.uploads[0].id, null)
}

output "efs_dns_name" {
  description = "efs: DNS name the app hosts mount over NFS (null otherwise)."
  value       = try(aws_efs_file_system.uploads[0].dns_name, null)
}

output "bucket_name" {
  description = "s3: name of the uploads bucket, the app's UPLOADS_S3_BUCKET (null otherwise)."
  value       = try(aws_s3_bucket.uploads[0].bucket, null)
}
