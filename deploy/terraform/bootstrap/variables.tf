variable "region" {
  description = "Region of the state bucket (use the one the environments build in)."
  type        = string
  default     = "eu-central-1"
}

variable "bucket_prefix" {
  description = "Start of the state bucket's name; the account ID is appended so the name is globally unique."
  type        = string
  default     = "bookdesk-tfstate"
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept before it expires (each apply writes one)."
  type        = number
  default     = 90
}
