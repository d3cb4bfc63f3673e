# One VPC with a public subnet per zone (the app host, behind nothing but its security
# group; or, scaled out, the balancer host and the app hosts behind it) and a private
# subnet per zone (the optional managed database and shared uploads volume). No NAT
# gateway: only the public hosts need the internet, and each has its own address.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  public_cidrs  = [for i, _ in var.availability_zones : cidrsubnet(var.cidr_block, 8, i)]
  private_cidrs = [for i, _ in var.availability_zones : cidrsubnet(var.cidr_block, 8, i + 100)]
}

resource "aws_vpc" "this" {
  cidr_block                       = var.cidr_block
  assign_generated_ipv6_cidr_block = var.enable_ipv6
  enable_dns_support               = true
  enable_dns_hostnames             = true

  tags = merge(var.tags, { Name = var.name })
}

# The default security group is left with no rules, so anything launched without an
# explicit group can talk to nothing.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-closed" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = length(var.availability_zones)

  vpc_id                          = aws_vpc.this.id
  availability_zone               = var.availability_zones[count.index]
  cidr_block                      = local.public_cidrs[count.index]
  ipv6_cidr_block                 = var.enable_ipv6 ? cidrsubnet(aws_vpc.this.ipv6_cidr_block, 8, count.index) : null
  assign_ipv6_address_on_creation = var.enable_ipv6
  # The host gets a stable Elastic IP instead of a random launch address.
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-public-${var.availability_zones[count.index]}", Tier = "public" })
}

resource "aws_subnet" "private" {
  count = length(var.availability_zones)

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = local.private_cidrs[count.index]
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-private-${var.availability_zones[count.index]}", Tier = "private" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_ipv4" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route" "public_ipv6" {
  count = var.enable_ipv6 ? 1 : 0

  route_table_id              = aws_route_table.public.id
  destination_ipv6_cidr_block = "::/0"
  gateway_id                  = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = length(var.availability_zones)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# Private subnets keep the VPC's main route table: local traffic only.

# --- Security groups --------------------------------------------------------------------

resource "aws_security_group" "app" {
  #checkov:skip=CKV2_AWS_5:The group is attached to the instance by the app_host module, which takes its id as an input.
  name        = "${var.name}-app"
  description = "Bookdesk app hosts: HTTP and HTTPS from anywhere (or from the balancer), SSH only from the admin list"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-app" })

  lifecycle {
    create_before_destroy = true
  }
}

# Port 80 stays open to the world on purpose: Let's Encrypt's HTTP-01 challenge needs it,
# and nginx answers everything else there with a redirect to HTTPS.
resource "aws_vpc_security_group_ingress_rule" "app_http_ipv4" {
  #checkov:skip=CKV_AWS_260:Port 80 must be public for Let's Encrypt HTTP-01 challenges; nginx only redirects it to HTTPS.
  count = var.enable_balancer ? 0 : 1

  security_group_id = aws_security_group.app.id
  description       = "HTTP from anywhere (IPv4): ACME challenges and the redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "app_http_ipv6" {
  #checkov:skip=CKV_AWS_260:Port 80 must be public for Let's Encrypt HTTP-01 challenges; nginx only redirects it to HTTPS.
  count = var.enable_ipv6 && !var.enable_balancer ? 1 : 0

  security_group_id = aws_security_group.app.id
  description       = "HTTP from anywhere (IPv6): ACME challenges and the redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "app_https_ipv4" {
  count = var.enable_balancer ? 0 : 1

  security_group_id = aws_security_group.app.id
  description       = "HTTPS from anywhere (IPv4)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "app_https_ipv6" {
  count = var.enable_ipv6 && !var.enable_balancer ? 1 : 0

  security_group_id = aws_security_group.app.id
  description       = "HTTPS from anywhere (IPv6)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "app_ssh_admin" {
  for_each = toset(var.admin_ssh_cidrs)

  security_group_id = aws_security_group.app.id
  description       = "SSH from an administrator network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = strcontains(each.key, ":") ? null : each.key
  cidr_ipv6         = strcontains(each.key, ":") ? each.key : null
}

# Egress is limited to what the host needs: HTTPS (packages, SSM, CloudWatch, ACME),
# HTTP (Debian mirrors), SMTP submission (Brevo relay) and PostgreSQL inside the VPC.
# DNS and NTP go to the VPC resolver / Amazon Time Sync at link-local addresses, which
# security groups never filter.
locals {
  egress_world = {
    https = { port = 443, description = "HTTPS to AWS APIs, package mirrors and Let's Encrypt" }
    http  = { port = 80, description = "HTTP to package mirrors" }
    smtp  = { port = 587, description = "SMTP submission to the mail relay (STARTTLS)" }
  }
}

resource "aws_vpc_security_group_egress_rule" "app_world_ipv4" {
  for_each = local.egress_world

  security_group_id = aws_security_group.app.id
  description       = "${each.value.description} (IPv4)"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "app_world_ipv6" {
  for_each = var.enable_ipv6 ? local.egress_world : {}

  security_group_id = aws_security_group.app.id
  description       = "${each.value.description} (IPv6)"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_egress_rule" "app_to_database" {
  security_group_id            = aws_security_group.app.id
  description                  = "PostgreSQL on the managed database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:The group is attached by the database module, which is off for single-host installs.
  name        = "${var.name}-database"
  description = "Managed PostgreSQL: reachable from the app host only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-database" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_app" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the app host"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.app.id
}

# --- Scaled out: a balancer host in front of several app hosts ----------------------------
# The balancer host is the only public web front and also the monitoring host of the
# environment: it runs Prometheus, Alertmanager and the central log receiver. So the app
# hosts take HTTPS from it alone, it may scrape their exporters, and they ship their logs to
# it. Every port below must match the Ansible monitoring role's defaults
# (tests/deploy/test_monitoring_ports.py compares them).

resource "aws_security_group" "balancer" {
  #checkov:skip=CKV2_AWS_5:The group is attached to the balancer host by the balancer module, which takes its id as an input.
  count = var.enable_balancer ? 1 : 0

  name        = "${var.name}-balancer"
  description = "Bookdesk balancer and monitoring host: HTTP and HTTPS from anywhere, logs from the app hosts"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-balancer" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "balancer_http_ipv4" {
  #checkov:skip=CKV_AWS_260:Port 80 must be public for Let's Encrypt HTTP-01 challenges; nginx only redirects it to HTTPS.
  count = var.enable_balancer ? 1 : 0

  security_group_id = aws_security_group.balancer[0].id
  description       = "HTTP from anywhere (IPv4): ACME challenges and the redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "balancer_http_ipv6" {
  #checkov:skip=CKV_AWS_260:Port 80 must be public for Let's Encrypt HTTP-01 challenges; nginx only redirects it to HTTPS.
  count = var.enable_balancer && var.enable_ipv6 ? 1 : 0

  security_group_id = aws_security_group.balancer[0].id
  description       = "HTTP from anywhere (IPv6): ACME challenges and the redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "balancer_https_ipv4" {
  count = var.enable_balancer ? 1 : 0

  security_group_id = aws_security_group.balancer[0].id
  description       = "HTTPS from anywhere (IPv4)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "balancer_https_ipv6" {
  count = var.enable_balancer && var.enable_ipv6 ? 1 : 0

  security_group_id = aws_security_group.balancer[0].id
  description       = "HTTPS from anywhere (IPv6)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "balancer_ssh_admin" {
  for_each = var.enable_balancer ? toset(var.admin_ssh_cidrs) : toset([])

  security_group_id = aws_security_group.balancer[0].id
  description       = "SSH from an administrator network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = strcontains(each.key, ":") ? null : each.key
  cidr_ipv6         = strcontains(each.key, ":") ? each.key : null
}

resource "aws_vpc_security_group_egress_rule" "balancer_world_ipv4" {
  for_each = var.enable_balancer ? local.egress_world : {}

  security_group_id = aws_security_group.balancer[0].id
  description       = "${each.value.description} (IPv4)"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "balancer_world_ipv6" {
  for_each = var.enable_balancer && var.enable_ipv6 ? local.egress_world : {}

  security_group_id = aws_security_group.balancer[0].id
  description       = "${each.value.description} (IPv6)"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv6         = "::/0"
}

# Web traffic: nginx on the balancer proxies to nginx on the app hosts over HTTPS (the app
# hosts keep their own certificate, checked by the balancer against the site name).
resource "aws_vpc_security_group_ingress_rule" "app_https_from_balancer" {
  count = var.enable_balancer ? 1 : 0

  security_group_id            = aws_security_group.app.id
  description                  = "HTTPS proxied from the balancer host"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.balancer[0].id
}

resource "aws_vpc_security_group_egress_rule" "balancer_https_to_app" {
  count = var.enable_balancer ? 1 : 0

  security_group_id            = aws_security_group.balancer[0].id
  description                  = "HTTPS to nginx on the app hosts"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.app.id
}

# Metrics: Prometheus on the balancer scrapes each app host's node_exporter (9100),
# nginx-prometheus-exporter (9113), mtail (3903), the app's /metrics through nginx's metrics
# server (9180) and postgres_exporter (9187, on the host that runs it).
resource "aws_vpc_security_group_ingress_rule" "app_scrape_from_balancer" {
  for_each = var.enable_balancer ? toset(["9100", "9113", "3903", "9180", "9187"]) : toset([])

  security_group_id            = aws_security_group.app.id
  description                  = "Prometheus on the balancer host scrapes port ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.balancer[0].id
}

resource "aws_vpc_security_group_egress_rule" "balancer_scrape_app" {
  for_each = var.enable_balancer ? toset(["9100", "9113", "3903", "9180", "9187"]) : toset([])

  security_group_id            = aws_security_group.balancer[0].id
  description                  = "Prometheus scrapes port ${each.key} on the app hosts"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.app.id
}

# Logs: rsyslog on each app host forwards to the central receiver on the balancer over TCP
# 10514 (deploy/monitoring/logs/).
resource "aws_vpc_security_group_ingress_rule" "logs_from_app" {
  count = var.enable_balancer ? 1 : 0

  security_group_id            = aws_security_group.balancer[0].id
  description                  = "Logs shipped by rsyslog from the app hosts"
  ip_protocol                  = "tcp"
  from_port                    = 10514
  to_port                      = 10514
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_vpc_security_group_egress_rule" "logs_to_balancer" {
  count = var.enable_balancer ? 1 : 0

  security_group_id            = aws_security_group.app.id
  description                  = "Logs shipped by rsyslog to the central receiver"
  ip_protocol                  = "tcp"
  from_port                    = 10514
  to_port                      = 10514
  referenced_security_group_id = aws_security_group.balancer[0].id
}

# --- Shared uploads volume (EFS) ---------------------------------------------------------

resource "aws_security_group" "uploads_nfs" {
  #checkov:skip=CKV2_AWS_5:The group is attached to the EFS mount targets by the uploads_storage module, which takes its id as an input.
  count = var.enable_shared_uploads_volume ? 1 : 0

  name        = "${var.name}-uploads-nfs"
  description = "Shared uploads volume (EFS): NFS from the app hosts only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-uploads-nfs" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "nfs_from_app" {
  count = var.enable_shared_uploads_volume ? 1 : 0

  security_group_id            = aws_security_group.uploads_nfs[0].id
  description                  = "NFS from the app hosts"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_vpc_security_group_egress_rule" "app_to_nfs" {
  count = var.enable_shared_uploads_volume ? 1 : 0

  security_group_id            = aws_security_group.app.id
  description                  = "NFS to the shared uploads volume"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.uploads_nfs[0].id
}

# --- Flow logs --------------------------------------------------------------------------

resource "aws_kms_key" "logs" {
  description             = "${var.name}: VPC flow logs"
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
        Sid       = "CloudWatchLogsEncrypts"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/${var.name}/*"
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/${var.name}/vpc-flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = var.tags
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "flow_write" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow.arn}:*"]
  }
}

resource "aws_iam_role" "flow" {
  name               = "${var.name}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "flow" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow.id
  policy = data.aws_iam_policy_document.flow_write.json
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow.arn
  iam_role_arn         = aws_iam_role.flow.arn

  tags = var.tags
}
