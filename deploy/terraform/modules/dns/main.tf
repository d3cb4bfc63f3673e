# The site's address records, who may issue its certificates, and what makes mail sent
# through Brevo from this domain pass SPF, DKIM and DMARC.

locals {
  fqdn = var.site_name == "" ? var.domain : "${var.site_name}.${var.domain}"

  caa_records = concat(
    [for ca in var.caa_issuers : "0 issue \"${ca}\""],
    ["0 issuewild \";\""], # no wildcard certificates from anyone
    var.caa_iodef == null ? [] : ["0 iodef \"${var.caa_iodef}\""],
  )

  spf_record   = "v=spf1 ${join(" ", formatlist("include:%s", var.spf_includes))} ${var.spf_all}"
  dmarc_record = "v=DMARC1; p=${var.dmarc_policy}; rua=${join(",", formatlist("mailto:%s", var.dmarc_rua))}; adkim=r; aspf=r"

  # A TXT string is at most 255 characters; Route 53 takes longer values (DKIM keys) as
  # several quoted strings in one record, written here as "part1""part2".
  dkim_txt = { for selector, key in var.brevo_dkim_txt : selector => join("\"\"", regexall(".{1,255}", key)) }
}

resource "aws_route53_record" "a" {
  #checkov:skip=CKV2_AWS_23:The address is the app host's Elastic IP, passed in from the app_host module's output.
  zone_id = var.zone_id
  name    = local.fqdn
  type    = "A"
  ttl     = var.ttl
  records = [var.ipv4_address]
}

resource "aws_route53_record" "aaaa" {
  count = var.enable_ipv6 ? 1 : 0

  zone_id = var.zone_id
  name    = local.fqdn
  type    = "AAAA"
  ttl     = var.ttl
  records = [var.ipv6_address]
}

resource "aws_route53_record" "caa" {
  count = var.manage_domain_records ? 1 : 0

  zone_id = var.zone_id
  name    = var.domain
  type    = "CAA"
  ttl     = 3600
  records = local.caa_records
}

# Brevo's domain verification and SPF share the apex TXT record set.
resource "aws_route53_record" "apex_txt" {
  count = var.manage_domain_records ? 1 : 0

  zone_id = var.zone_id
  name    = var.domain
  type    = "TXT"
  ttl     = var.ttl
  records = [var.brevo_code, local.spf_record]

  lifecycle {
    precondition {
      condition     = var.brevo_code != null
      error_message = "brevo_code is required where this call manages the domain records."
    }
  }
}

resource "aws_route53_record" "dkim_cname" {
  for_each = var.manage_domain_records ? var.brevo_dkim_cnames : {}

  zone_id = var.zone_id
  name    = "${each.key}._domainkey.${var.domain}"
  type    = "CNAME"
  ttl     = var.ttl
  records = [each.value]
}

resource "aws_route53_record" "dkim_txt" {
  for_each = var.manage_domain_records ? local.dkim_txt : {}

  zone_id = var.zone_id
  name    = "${each.key}._domainkey.${var.domain}"
  type    = "TXT"
  ttl     = var.ttl
  records = [each.value]
}

resource "aws_route53_record" "dmarc" {
  count = var.manage_domain_records ? 1 : 0

  zone_id = var.zone_id
  name    = "_dmarc.${var.domain}"
  type    = "TXT"
  ttl     = var.ttl
  records = [local.dmarc_record]

  lifecycle {
    precondition {
      condition     = length(var.brevo_dkim_cnames) + length(var.brevo_dkim_txt) > 0
      error_message = "Give the Brevo DKIM records (brevo_dkim_cnames or brevo_dkim_txt): without DKIM, DMARC fails for every message."
    }
    precondition {
      condition     = length(var.dmarc_rua) > 0
      error_message = "dmarc_rua needs at least one address, or nobody reads the DMARC reports."
    }
  }
}
