variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-staging\"."
  type        = string
}

variable "availability_zone" {
  description = "Zone of the app host; an EBS volume can only attach to an instance in its own zone."
  type        = string
}

variable "instance_id" {
  description = "The app host the volume is attached to."
  type        = string
}

variable "size_gb" {
  description = "Size of the uploads volume in GiB. It can grow later (then grow the file system with xfs_growfs)."
  type        = number
  default     = 20

  validation {
    condition     = var.size_gb >= 1 && var.size_gb <= 16384
    error_message = "size_gb must be between 1 and 16384."
  }
}

variable "device_name" {
  description = "Device name given to the attachment; on Nitro instances the disk shows up as NVMe whatever this says."
  type        = string
  default     = "/dev/sdf"
}

variable "snapshot_times" {
  description = "UTC times (HH:MM) of the daily snapshots taken by Data Lifecycle Manager."
  type        = list(string)
  default     = ["03:00"]
}

variable "snapshot_retain_count" {
  description = "How many of the scheduled snapshots to keep."
  type        = number
  default     = 14

  validation {
    condition     = var.snapshot_retain_count >= 1 && var.snapshot_retain_count <= 1000
    error_message = "snapshot_retain_count must be between 1 and 1000."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
