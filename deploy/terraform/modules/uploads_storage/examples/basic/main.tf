# A 20 GiB uploads volume on an existing instance, snapshotted daily, 14 kept.
provider "aws" {
  region = "eu-central-1"
}

module "uploads_storage" {
  source = "../../"

  name              = "bookdesk-example"
  availability_zone = "eu-central-1a"
  instance_id       = "i-0123456789abcdef0"
  size_gb           = 20
}

output "volume_id" {
  description = "ID of the uploads volume."
  value       = module.uploads_storage.volume_id
}
