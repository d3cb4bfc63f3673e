mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

mock_provider "random" {}

variables {
  name             = "bookdesk-test"
  parameter_prefix = "/bookdesk/test"
  smtp_login       = "login@example.org"
}

run "secure_strings_under_one_path" {
  command = plan

  assert {
    condition = alltrue([
      for p in [aws_ssm_parameter.secret_key, aws_ssm_parameter.database_password, aws_ssm_parameter.smtp_login, aws_ssm_parameter.smtp_key] :
      p.type == "SecureString" && startswith(p.name, "/bookdesk/test/")
    ])
    error_message = "Every secret must be a SecureString under the prefix."
  }

  assert {
    condition     = output.parameter_path_arn == "arn:aws:ssm:*:123456789012:parameter/bookdesk/test/*"
    error_message = "The path ARN must cover exactly the prefix."
  }
}

run "refuses_trailing_slash" {
  command = plan

  variables {
    parameter_prefix = "/bookdesk/test/"
  }

  expect_failures = [var.parameter_prefix]
}
