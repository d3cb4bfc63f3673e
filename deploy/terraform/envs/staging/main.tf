# Staging: the same modules as production on a single small host with PostgreSQL on the
# host (no RDS by default). Production owns the domain-wide DNS records; staging only adds
# its own A/AAAA name and sends mail through the same verified Brevo domain.

locals {
  environment = "staging"
  name        = "bookdesk-${local.environment}"
  tags = {
    Project     = "bookdesk"
    Environment = local.environment
    ManagedBy   = "terraform"
  }
  # Several app hosts stand behind a balancer host (also the monitoring host) and share
  # their uploads (EFS or S3); one app host is its own front, with its own EBS volume.
  scaled_out = var.app_host_count > 1
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  availability_zones = var.availability_zones
  enable_ipv6        = true
  admin_ssh_cidrs    = var.admin_ssh_cidrs

  enable_balancer              = local.scaled_out
  enable_shared_uploads_volume = var.uploads_storage == "efs"
}

module "secrets" {
  source = "../../modules/secrets"

  name             = local.name
  parameter_prefix = "/bookdesk/${local.environment}"
  smtp_login       = var.smtp_login
  reader_role_arns = [module.app_host.role_arn]
}

module "app_host" {
  source = "../../modules/app_host"

  name                  = local.name
  environment           = local.environment
  subnet_ids            = module.network.public_subnet_ids
  host_count            = var.app_host_count
  uploads_nfs_target    = module.uploads_storage.efs_dns_name
  security_group_ids    = [module.network.app_security_group_id]
  instance_type         = var.instance_type
  admin_ssh_public_keys = var.admin_ssh_public_keys
  secret_parameter_arns = [module.secrets.parameter_path_arn]
  secret_kms_key_arns   = [module.secrets.kms_key_arn]
}

module "balancer" {
  source = "../../modules/balancer"
  count  = local.scaled_out ? 1 : 0

  name                  = local.name
  environment           = local.environment
  subnet_id             = module.network.public_subnet_ids[0]
  security_group_ids    = [module.network.balancer_security_group_id]
  admin_ssh_public_keys = var.admin_ssh_public_keys
}

module "uploads_storage" {
  source = "../../modules/uploads_storage"

  name = local.name
  kind = var.uploads_storage

  # ebs: the single app host's own volume
  availability_zone     = var.uploads_storage == "ebs" ? module.app_host.availability_zone : null
  instance_id           = var.uploads_storage == "ebs" ? module.app_host.instance_id : null
  size_gb               = var.uploads_size_gb
  snapshot_retain_count = 7
  # efs: a mount target in each zone the app hosts run in
  subnet_ids         = module.network.public_subnet_ids
  security_group_ids = compact([module.network.uploads_nfs_security_group_id])
  # s3: the app hosts' role may use the bucket
  access_role_name = module.app_host.role_name
}

module "database" {
  source = "../../modules/database"
  count  = var.enable_managed_database ? 1 : 0

  name               = local.name
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.database_security_group_id]
  password           = module.secrets.database_password
  multi_az           = false # a standby doubles the cost; staging can wait for a restore
}

module "dns" {
  source = "../../modules/dns"

  zone_id   = var.zone_id
  domain    = var.domain
  site_name = var.site_name
  # The site's address is its front: the balancer when scaled out, else the app host.
  ipv4_address = local.scaled_out ? one(module.balancer[*].public_ipv4) : module.app_host.public_ipv4
  enable_ipv6  = true
  ipv6_address = local.scaled_out ? one(module.balancer[*].public_ipv6) : module.app_host.public_ipv6

  manage_domain_records = false
}

module "alarms" {
  source = "../../modules/alarms"

  name          = local.name
  alert_emails  = var.alert_emails
  instance_id   = module.app_host.instance_id
  instance_type = module.app_host.instance_type
}
