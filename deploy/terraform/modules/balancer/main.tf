# Scale-out: the balancer host in front of several app hosts. nginx on it terminates TLS
# (Let's Encrypt, HTTP-01) and spreads requests over the app hosts' nginx; it is also the
# environment's monitoring host (Prometheus, Alertmanager, the central log receiver), since
# it is the one host that sees every request and stays when an app host is replaced.
# Terraform only prepares it, as it does the app hosts; Ansible does everything else.

data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_ami" "debian" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["136693071363"] # Debian's official AWS account

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id

  host_facts = {
    environment          = var.environment
    region               = data.aws_region.current.name
    deploy_user          = var.deploy_user
    cloudwatch_namespace = var.cloudwatch_namespace
    ansible_group        = "bookdesk_${var.environment}"
    ansible_function     = "bookdesk_balancer"
  }
}

# --- Instance role: SSM management and its own metrics; no application secrets -----------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "host" {
  # PutMetricData has no resource type; the namespace condition is what limits it.
  statement {
    sid       = "PublishHostMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.cloudwatch_namespace]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-balancer"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "host" {
  name   = "bookdesk-balancer"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.host.json
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-balancer"
  role = aws_iam_role.this.name

  tags = var.tags
}

# --- The instance ------------------------------------------------------------------------

resource "aws_instance" "this" {
  ami                    = local.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = var.security_group_ids
  iam_instance_profile   = aws_iam_instance_profile.this.name
  ebs_optimized          = true
  monitoring             = true

  associate_public_ip_address = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  # Prometheus' data (15 days by default) and the central logs live here too.
  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = var.root_volume_kms_key_arn
    delete_on_termination = true
  }

  user_data_replace_on_change = false
  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    host_facts_json       = jsonencode(local.host_facts)
    deploy_user           = var.deploy_user
    admin_ssh_public_keys = var.admin_ssh_public_keys
    cloudwatch_namespace  = var.cloudwatch_namespace
    region                = data.aws_region.current.name
  })

  tags = merge(var.tags, {
    Name            = "${var.name}-balancer"
    AnsibleGroup    = local.host_facts.ansible_group
    AnsibleFunction = local.host_facts.ansible_function
  })
  volume_tags = merge(var.tags, { Name = "${var.name}-balancer-root" })

  lifecycle {
    ignore_changes = [ami, user_data]
  }
}

resource "aws_eip" "this" {
  domain   = "vpc"
  instance = aws_instance.this.id

  tags = merge(var.tags, { Name = "${var.name}-balancer" })
}
