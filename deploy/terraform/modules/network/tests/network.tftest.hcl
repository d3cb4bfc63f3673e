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
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name               = "bookdesk-test"
  availability_zones = ["eu-central-1a", "eu-central-1b"]
}

run "only_web_ports_are_public_and_no_ssh_by_default" {
  command = plan

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_http_ipv4[0].from_port == 80 && aws_vpc_security_group_ingress_rule.app_https_ipv4[0].from_port == 443 && aws_vpc_security_group_ingress_rule.app_http_ipv4[0].cidr_ipv4 == "0.0.0.0/0"
    error_message = "HTTP and HTTPS must be open to the IPv4 internet."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_http_ipv6[0].cidr_ipv6 == "::/0" && aws_vpc_security_group_ingress_rule.app_https_ipv6[0].to_port == 443
    error_message = "HTTP and HTTPS must be open to the IPv6 internet."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app_ssh_admin) == 0
    error_message = "No SSH rule without admin networks."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Public subnets must not hand out random public addresses."
  }
}

run "ssh_only_from_the_admin_list" {
  command = plan

  variables {
    admin_ssh_cidrs = ["198.51.100.0/24"]
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_ssh_admin["198.51.100.0/24"].cidr_ipv4 == "198.51.100.0/24" && aws_vpc_security_group_ingress_rule.app_ssh_admin["198.51.100.0/24"].from_port == 22
    error_message = "SSH must be open to the admin network only."
  }
}

run "refuses_ssh_from_the_internet" {
  command = plan

  variables {
    admin_ssh_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.admin_ssh_cidrs]
}

run "scaled_out_app_hosts_take_web_traffic_from_the_balancer_only" {
  command = plan

  variables {
    enable_balancer              = true
    enable_shared_uploads_volume = true
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app_http_ipv4) == 0 && length(aws_vpc_security_group_ingress_rule.app_https_ipv6) == 0
    error_message = "Behind a balancer the app hosts must not be public."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.balancer_https_ipv4[0].cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_ingress_rule.app_https_from_balancer[0].from_port == 443
    error_message = "The balancer is public and proxies HTTPS to the app hosts."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.logs_from_app[0].from_port == 10514 && aws_vpc_security_group_ingress_rule.logs_from_app[0].ip_protocol == "tcp" && aws_vpc_security_group_egress_rule.logs_to_balancer[0].to_port == 10514
    error_message = "The app hosts ship logs to the balancer over TCP 10514."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app_scrape_from_balancer) == 5 && aws_vpc_security_group_ingress_rule.nfs_from_app[0].from_port == 2049
    error_message = "Prometheus scrapes five ports; NFS reaches the shared volume."
  }
}
