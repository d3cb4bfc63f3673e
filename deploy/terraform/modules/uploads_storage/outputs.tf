output "volume_id" {
  description = "ID of the uploads EBS volume."
  value       = aws_ebs_volume.uploads.id
}

output "kms_key_arn" {
  description = "KMS key that encrypts the volume and its snapshots."
  value       = aws_kms_key.uploads.arn
}

output "snapshot_policy_id" {
  description = "ID of the Data Lifecycle Manager policy that snapshots the volume."
  value       = aws_dlm_lifecycle_policy.uploads.id
}
