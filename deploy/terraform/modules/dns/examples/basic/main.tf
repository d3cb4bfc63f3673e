# The site's A record plus every domain-wide record for a Brevo sending domain.
provider "aws" {
  region = "eu-central-1"
}

module "dns" {
  source = "../../"

  zone_id      = "Z0123456789ABCDEFGHIJ"
  domain       = "example.org"
  site_name    = "bookdesk"
  ipv4_address = "192.0.2.10"

  brevo_code = "brevo-code:0123456789abcdef0123456789abcdef"
  brevo_dkim_cnames = {
    brevo1 = "b1.example-org.dkim.brevo.com"
    brevo2 = "b2.example-org.dkim.brevo.com"
  }
  dmarc_policy = "quarantine"
  dmarc_rua    = ["dmarc-reports@example.org"]
  caa_iodef    = "mailto:security@example.org"
}

output "spf_record" {
  description = "The SPF value published."
  value       = module.dns.spf_record
}
