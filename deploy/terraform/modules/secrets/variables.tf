variable "name" {
  description = "Prefix for resource names, e.g. \"bookdesk-staging\"."
  type        = string
}

variable "parameter_prefix" {
  description = "SSM path every secret lives under, e.g. \"/bookdesk/staging\". Ansible reads the whole path."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+[^/]$", var.parameter_prefix))
    error_message = "parameter_prefix must start with / and must not end with /."
  }
}

variable "smtp_login" {
  description = "Login of the SMTP relay account (Brevo shows it under SMTP & API). Not a secret on its own, stored beside the key for convenience."
  type        = string
  sensitive   = true
}

variable "reader_role_arns" {
  description = "IAM roles (the app host's) allowed to decrypt the secrets with this module's key, besides account administrators."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
