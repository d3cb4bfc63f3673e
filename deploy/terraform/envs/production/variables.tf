variable "region" {
  description = "AWS region to build in."
  type        = string
  default     = "eu-central-1"
}

variable "availability_zones" {
  description = "Zones for the subnets; the app host goes in the first. Two or more when the managed database is on."
  type        = list(string)
  default     = ["eu-central-1a", "eu-central-1b"]
}

variable "domain" {
  description = "The organisation's domain, also the Brevo sending domain, e.g. \"example.org\"."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone ID of the domain."
  type        = string
}

variable "site_name" {
  description = "Host name of the site inside the domain."
  type        = string
  default     = "bookdesk"
}

variable "brevo_code" {
  description = "Brevo's domain verification value (\"brevo-code:...\")."
  type        = string
}

variable "brevo_dkim_cnames" {
  description = "Brevo DKIM CNAMEs, selector => target (newer Brevo domains)."
  type        = map(string)
  default     = {}
}

variable "brevo_dkim_txt" {
  description = "Brevo DKIM TXT keys, selector => \"k=rsa;p=...\" (older Brevo domains)."
  type        = map(string)
  default     = {}
}

variable "dmarc_policy" {
  description = "DMARC policy published for the domain."
  type        = string
  default     = "none"
}

variable "dmarc_rua" {
  description = "Addresses receiving DMARC aggregate reports."
  type        = list(string)
}

variable "caa_iodef" {
  description = "CAA iodef contact (mailto: or https:), or null."
  type        = string
  default     = null
}

variable "alert_emails" {
  description = "Addresses that receive the CloudWatch alarms."
  type        = list(string)
}

variable "admin_ssh_cidrs" {
  description = "Networks allowed to SSH to the host; empty means SSM Session Manager only."
  type        = list(string)
  default     = []
}

variable "admin_ssh_public_keys" {
  description = "Public keys for the deploy user when Ansible uses SSH."
  type        = list(string)
  default     = []
}

variable "smtp_login" {
  description = "Login of the Brevo SMTP account (the key itself is set outside Terraform)."
  type        = string
  sensitive   = true
}

variable "instance_type" {
  description = "Type of the app host."
  type        = string
  default     = "t3.small"
}

variable "uploads_size_gb" {
  description = "Size of the uploads volume in GiB."
  type        = number
  default     = 50
}

variable "enable_managed_database" {
  description = "Use RDS PostgreSQL instead of PostgreSQL on the host."
  type        = bool
  default     = true
}

variable "app_host_count" {
  description = "App hosts. More than one adds a balancer host in front (also the monitoring host) and needs shared uploads storage (uploads_storage efs or s3)."
  type        = number
  default     = 1

  validation {
    condition     = var.app_host_count == 1 || var.uploads_storage != "ebs"
    error_message = "Several app hosts must share their uploads: set uploads_storage to efs or s3."
  }
}

variable "uploads_storage" {
  description = "Where uploads live: ebs (the single app host's own volume), efs (a volume shared by the app hosts) or s3 (a bucket; the app's UPLOADS_STORAGE=s3)."
  type        = string
  default     = "ebs"
}
