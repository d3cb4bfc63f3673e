variable "name" {
  description = "Prefix for every resource name, e.g. \"bookdesk-production\"."
  type        = string
}

variable "alert_emails" {
  description = "Addresses subscribed to the alarm topic. Each must confirm the subscription mail AWS sends."
  type        = list(string)

  validation {
    condition     = length(var.alert_emails) > 0
    error_message = "Name at least one address: an alarm nobody receives is no alarm."
  }
}

variable "instance_id" {
  description = "The app host watched by the alarms."
  type        = string
}

variable "instance_type" {
  description = "Type of the app host; burstable types (t2/t3/t3a/t4g) also get the CPU-credit alarm."
  type        = string
}

variable "cloudwatch_namespace" {
  description = "Namespace the host's CloudWatch agent publishes disk metrics to (the app_host module's setting)."
  type        = string
  default     = "Bookdesk/Host"
}

variable "disk_paths" {
  description = "Mount points watched for free space: the root disk and the uploads volume."
  type        = list(string)
  default     = ["/", "/srv/bookdesk/uploads"]
}

variable "disk_used_percent_threshold" {
  description = "Alarm when a watched file system is fuller than this percentage."
  type        = number
  default     = 85
}

variable "cpu_credit_balance_threshold" {
  description = "Alarm when a burstable host's CPU credit balance falls below this."
  type        = number
  default     = 20
}

variable "enable_auto_recover" {
  description = "Let EC2 recover the host onto healthy hardware when the system status check fails."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
