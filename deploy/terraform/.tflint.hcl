# tflint settings for every module and environment (the GitHub workflow passes this file
# with --config). The AWS ruleset catches invalid instance types, AMI patterns and the like.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.44.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
