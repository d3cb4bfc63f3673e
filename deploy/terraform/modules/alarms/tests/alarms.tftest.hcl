mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name          = "bookdesk-test"
  alert_emails  = ["ops@example.org"]
  instance_id   = "i-0123456789abcdef0"
  instance_type = "t3.small"
}

run "burstable_host_gets_every_alarm" {
  # apply (against the mocks): alarm_actions holds the topic ARN, unknown until apply.
  command = apply

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_credits) == 1
    error_message = "A t3 host needs the CPU-credit alarm."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.disk_used)) == toset(["/", "/srv/bookdesk/uploads"])
    error_message = "Root and uploads disks must both be watched."
  }

  assert {
    condition     = contains(aws_cloudwatch_metric_alarm.system_status.alarm_actions, "arn:aws:automate:eu-central-1:ec2:recover")
    error_message = "System status failure should recover the instance."
  }

  assert {
    condition     = aws_sns_topic_subscription.email["ops@example.org"].protocol == "email"
    error_message = "Operators must be subscribed by e-mail."
  }
}

run "non_burstable_host_has_no_credit_alarm" {
  command = plan

  variables {
    instance_type = "m7i.large"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cpu_credits) == 0
    error_message = "Only burstable hosts have CPU credits."
  }
}
