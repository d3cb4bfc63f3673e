variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-staging\"."
  type        = string
}

variable "kind" {
  description = "ebs (one app host's own volume), efs (a volume shared by several app hosts) or s3 (a bucket the app hosts' role may use)."
  type        = string
  default     = "ebs"

  validation {
    condition     = contains(["ebs", "efs", "s3"], var.kind)
    error_message = "kind must be ebs, efs or s3."
  }
}

variable "availability_zone" {
  description = "ebs: zone of the app host; an EBS volume can only attach to an instance in its own zone."
  type        = string
  default     = null
}

variable "instance_id" {
  description = "ebs: the app host the volume is attached to."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "efs: subnets to put a mount target in, one per zone the app hosts run in."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "efs: security groups of the mount targets (the network module's uploads NFS group)."
  type        = list(string)
  default     = []
}

variable "access_role_name" {
  description = "s3: IAM role of the app hosts, given read/write/delete on the bucket's objects and use of its key."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "s3: days a deleted or overwritten object stays recoverable as an old version."
  type        = number
  default     = 30
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
