# The VMs that run nginx, the app (blue/green gunicorn) and the worker: one by default,
# several (host_count) behind a balancer host when scaled out, all alike and sharing one
# instance role. Terraform only prepares them: user data installs the SSM and CloudWatch
# agents, mounts the uploads volume (its own EBS disk, or the shared EFS volume) and writes
# /etc/bookdesk/host.json; Ansible does everything else.

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
    uploads_mount_point  = var.uploads_mount_point
    cloudwatch_namespace = var.cloudwatch_namespace
    ansible_group        = "bookdesk_${var.environment}"
  }
  # Spread the hosts over the subnets (zones) given, in order.
  subnet_ids = [for i in range(var.host_count) : var.subnet_ids[i % length(var.subnet_ids)]]
}

# --- Instance role: SSM management, its own parameters, its own metrics ------------------

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
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = var.secret_parameter_arns
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = var.secret_kms_key_arns
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

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
  name               = "${var.name}-app-host"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "host" {
  name   = "bookdesk-host"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.host.json
}

# Session Manager (shell and Ansible's aws_ssm connection) without any inbound port.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-app-host"
  role = aws_iam_role.this.name

  tags = var.tags
}

# --- The instance ------------------------------------------------------------------------

resource "aws_instance" "this" {
  count = var.host_count

  ami                    = local.ami_id
  instance_type          = var.instance_type
  subnet_id              = local.subnet_ids[count.index]
  vpc_security_group_ids = var.security_group_ids
  iam_instance_profile   = aws_iam_instance_profile.this.name
  ebs_optimized          = true
  monitoring             = true

  # A stable Elastic IP is attached below; no random launch address.
  associate_public_ip_address = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

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
    uploads_mount_point   = var.uploads_mount_point
    uploads_nfs_target    = var.uploads_nfs_target == null ? "" : var.uploads_nfs_target
    cloudwatch_namespace  = var.cloudwatch_namespace
    region                = data.aws_region.current.name
  })

  tags = merge(var.tags, {
    Name = "${var.name}-app${count.index + 1}"
    # The Ansible aws_ec2 inventory plugin groups hosts by these tags: the environment,
    # and the function that decides the roles a host gets.
    AnsibleGroup    = local.host_facts.ansible_group
    AnsibleFunction = "bookdesk_app"
  })
  volume_tags = merge(var.tags, { Name = "${var.name}-app${count.index + 1}-root" })

  lifecycle {
    # A newer Debian AMI must not replace a running host; Ansible upgrades packages in place.
    ignore_changes = [ami, user_data]
  }
}

# Every host keeps a public address of its own even behind the balancer: there is no NAT
# gateway, and the security groups admit web traffic from the balancer only.
resource "aws_eip" "this" {
  count = var.host_count

  domain   = "vpc"
  instance = aws_instance.this[count.index].id

  tags = merge(var.tags, { Name = "${var.name}-app${count.index + 1}" })
}

# The single host of earlier versions is the first of the list.
moved {
  from = aws_instance.this
  to   = aws_instance.this[0]
}

moved {
  from = aws_eip.this
  to   = aws_eip.this[0]
}
