variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-production\"."
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

variable "subnet_id" {
  description = "Public subnet the balancer host is launched in."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the host (the network module's balancer group)."
  type        = list(string)
}

variable "instance_type" {
  description = "EC2 instance type. nginx, Prometheus and Alertmanager for a small site fit a small burstable type."
  type        = string
  default     = "t3.small"
}

variable "ami_id" {
  description = "AMI to launch. Null picks the newest official Debian 12 (bookworm) amd64 image, which is what the Ansible roles target."
  type        = string
  default     = null
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted root volume in GiB (holds Prometheus' data and the central logs)."
  type        = number
  default     = 30
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
