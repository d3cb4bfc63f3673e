output "state_bucket" {
  description = "Bucket name to put in each environment's backend.hcl."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_alias" {
  description = "KMS alias to put in backend.hcl as kms_key_id."
  value       = aws_kms_alias.state.name
}

output "region" {
  description = "Region to put in backend.hcl."
  value       = var.region
}
