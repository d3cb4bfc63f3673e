# Remote state in S3 with S3-native locking. Nothing is hard-coded here: the bucket,
# key and region come from a file given at init, so one code base serves every account:
#   terraform init -backend-config=backend.hcl
# (copy backend.hcl.example to backend.hcl and fill it in; see docs/infrastructure.md).
terraform {
  backend "s3" {}
}
