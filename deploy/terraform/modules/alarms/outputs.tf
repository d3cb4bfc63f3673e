output "topic_arn" {
  description = "SNS topic every alarm notifies; other alarms can use it too."
  value       = aws_sns_topic.alerts.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms created."
  value = concat(
    [aws_cloudwatch_metric_alarm.instance_status.alarm_name, aws_cloudwatch_metric_alarm.system_status.alarm_name],
    aws_cloudwatch_metric_alarm.cpu_credits[*].alarm_name,
    [for a in aws_cloudwatch_metric_alarm.disk_used : a.alarm_name],
  )
}
