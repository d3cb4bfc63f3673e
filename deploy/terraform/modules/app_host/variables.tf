variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-staging\"."
  type        = string
}

variable "environment" {
  description = "Deployment environment the host serves (staging or production); written to the host for Ansible."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "subnet_ids" {
  description = "Public subnets to launch the hosts in; with several hosts they are spread over these in turn (one zone each)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Name at least one subnet."
  }
}

variable "host_count" {
  description = "Number of app hosts. More than one needs a balancer in front and shared uploads storage (EFS or S3)."
  type        = number
  default     = 1

  validation {
    condition     = var.host_count >= 1 && var.host_count <= 10 && floor(var.host_count) == var.host_count
    error_message = "host_count must be a whole number from 1 to 10."
  }
}

variable "security_group_ids" {
  description = "Security groups of the host (the network module's app group)."
  type        = list(string)
}

variable "instance_type" {
  description = "EC2 instance type. Burstable types (t3/t4g) also get a CPU-credit alarm from the alarms module."
  type        = string
  default     = "t3.small"
}

variable "ami_id" {
  description = "AMI to launch. Null picks the newest official Debian 12 (bookworm) amd64 image, which is what the Ansible roles target."
  type        = string
  default     = null
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted root volume in GiB."
  type        = number
  default     = 20
}

variable "root_volume_kms_key_arn" {
  description = "KMS key for the root volume. Null uses the account's default EBS key (still encrypted)."
  type        = string
  default     = null
}

variable "admin_ssh_public_keys" {
  description = "Public SSH keys put on the deploy user for Ansible over SSH. Leave empty when Ansible connects through SSM Session Manager."
  type        = list(string)
  default     = []
}

variable "deploy_user" {
  description = "Unprivileged-by-default account that Ansible connects as (it may sudo)."
  type        = string
  default     = "deploy"
}

variable "secret_parameter_arns" {
  description = "ARNs (wildcards allowed, e.g. \"arn:aws:ssm:...:parameter/bookdesk/staging/*\") of the SSM parameters the host may read."
  type        = list(string)
}

variable "secret_kms_key_arns" {
  description = "KMS keys that encrypt those parameters; the host may only decrypt with them."
  type        = list(string)
}

variable "uploads_mount_point" {
  description = "Where user data mounts the uploads data volume (attached by the uploads_storage module)."
  type        = string
  default     = "/srv/bookdesk/uploads"
}

variable "uploads_nfs_target" {
  description = "DNS name of a shared uploads volume (EFS) to mount over NFS at uploads_mount_point instead of waiting for an own EBS disk; null for the EBS disk."
  type        = string
  default     = null
}

variable "cloudwatch_namespace" {
  description = "Namespace the CloudWatch agent publishes disk and memory metrics to (read by the alarms module)."
  type        = string
  default     = "Bookdesk/Host"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
