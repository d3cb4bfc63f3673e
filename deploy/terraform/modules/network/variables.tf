variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-staging\"."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be an IPv4 CIDR such as 10.40.0.0/16."
  }
}

variable "availability_zones" {
  description = "Zones to spread subnets over; one public and one private subnet per zone. RDS needs at least two."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 1
    error_message = "Name at least one availability zone."
  }
}

variable "enable_ipv6" {
  description = "Give the VPC and the public subnets an Amazon-provided IPv6 range, so the host answers on AAAA too."
  type        = bool
  default     = true
}

variable "admin_ssh_cidrs" {
  description = "Networks allowed to reach SSH (22/tcp) on the app host. Empty (the default) opens no SSH at all: operators and Ansible use SSM Session Manager instead."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for cidr in var.admin_ssh_cidrs : can(cidrhost(cidr, 0)) && !contains(["0.0.0.0/0", "::/0"], cidr)
    ])
    error_message = "admin_ssh_cidrs takes specific networks; the whole internet is refused."
  }
}

variable "enable_balancer" {
  description = "Scale out: a balancer host (also the monitoring host) in front of several app hosts. The web ports then open on the balancer's group, the app hosts take HTTPS from it alone, and it may scrape their exporters and receive their logs."
  type        = bool
  default     = false
}

variable "enable_shared_uploads_volume" {
  description = "Make the security group of a shared uploads volume (EFS): NFS from the app hosts only."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
