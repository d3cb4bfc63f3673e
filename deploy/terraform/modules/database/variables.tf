variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-production\"."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones (the network module's private_subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the database (the network module's database group)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major version; the app is tested against 15."
  type        = string
  default     = "15"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Upper bound for storage autoscaling in GiB."
  type        = number
  default     = 100
}

variable "database_name" {
  description = "Name of the database created for the app."
  type        = string
  default     = "bookdesk"
}

variable "username" {
  description = "Master user the app connects as."
  type        = string
  default     = "bookdesk"
}

variable "password" {
  description = "Master password; pass the secrets module's generated database_password."
  type        = string
  sensitive   = true
}

variable "multi_az" {
  description = "Keep a standby in a second zone (production) or not (cheaper staging)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "slow_query_ms" {
  description = "Statements slower than this many milliseconds are logged (log_min_duration_statement)."
  type        = number
  default     = 500
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is switched off."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
