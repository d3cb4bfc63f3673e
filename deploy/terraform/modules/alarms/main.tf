# A second alerting path that does not depend on the app's own Prometheus stack: if the
# host is down, Prometheus on it is down too, but CloudWatch still sees the host and mails.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  burstable = can(regex("^t[234][a-z]*\\.", var.instance_type))
  actions   = [aws_sns_topic.alerts.arn]
}

# CloudWatch can only publish to an encrypted topic whose key lets it; the AWS-managed SNS
# key does not, hence a key of our own.
resource "aws_kms_key" "alerts" {
  description             = "${var.name}: alarm notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchPublishes"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = aws_kms_key.alerts.arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.key
}

resource "aws_cloudwatch_metric_alarm" "instance_status" {
  alarm_name          = "${var.name}-instance-status-check"
  alarm_description   = "The app host fails its instance status check (OS unresponsive, disk full, kernel trouble). Runbook: docs/infrastructure.md#when-an-aws-alarm-mails"
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_Instance"
  dimensions          = { InstanceId = var.instance_id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "system_status" {
  alarm_name          = "${var.name}-system-status-check"
  alarm_description   = "AWS hardware or network under the app host failed. With auto-recover on, EC2 moves the host to healthy hardware. Runbook: docs/infrastructure.md#when-an-aws-alarm-mails"
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_System"
  dimensions          = { InstanceId = var.instance_id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "breaching"
  alarm_actions = concat(
    local.actions,
    var.enable_auto_recover ? ["arn:${data.aws_partition.current.partition}:automate:${data.aws_region.current.name}:ec2:recover"] : [],
  )
  ok_actions = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "cpu_credits" {
  count = local.burstable ? 1 : 0

  alarm_name          = "${var.name}-cpu-credits-low"
  alarm_description   = "The burstable app host is running out of CPU credits and will be throttled. Runbook: docs/infrastructure.md#when-an-aws-alarm-mails"
  namespace           = "AWS/EC2"
  metric_name         = "CPUCreditBalance"
  dimensions          = { InstanceId = var.instance_id }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.cpu_credit_balance_threshold
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "disk_used" {
  for_each = toset(var.disk_paths)

  alarm_name          = "${var.name}-disk-used${replace(each.key, "/", "-")}"
  alarm_description   = "File system ${each.key} on the app host is over ${var.disk_used_percent_threshold}% full. Runbook: docs/infrastructure.md#when-an-aws-alarm-mails"
  namespace           = var.cloudwatch_namespace
  metric_name         = "disk_used_percent"
  dimensions          = { InstanceId = var.instance_id, path = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.disk_used_percent_threshold
  comparison_operator = "GreaterThanThreshold"
  # No data means the agent stopped reporting; the status alarms cover a dead host.
  treat_missing_data = "missing"
  alarm_actions      = local.actions
  ok_actions         = local.actions

  tags = var.tags
}
