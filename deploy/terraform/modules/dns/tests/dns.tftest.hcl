# terraform test (run in the GitHub workflow): plans against a mocked AWS provider and
# checks the records exactly as Route 53 would receive them.

mock_provider "aws" {}

variables {
  zone_id      = "Z0123456789ABCDEFGHIJ"
  domain       = "example.org"
  ipv4_address = "192.0.2.10"
  brevo_code   = "brevo-code:0123456789abcdef"
  brevo_dkim_cnames = {
    brevo1 = "b1.example-org.dkim.brevo.com"
    brevo2 = "b2.example-org.dkim.brevo.com"
  }
  dmarc_rua = ["dmarc@example.org", "reports@example.net"]
}

run "mail_and_caa_records" {
  command = plan

  assert {
    condition     = aws_route53_record.a.name == "bookdesk.example.org" && one(aws_route53_record.a.records) == "192.0.2.10"
    error_message = "A record must point bookdesk.example.org at the host."
  }

  assert {
    condition     = contains(aws_route53_record.apex_txt[0].records, "brevo-code:0123456789abcdef")
    error_message = "Apex TXT must carry the Brevo verification code."
  }

  assert {
    condition     = contains(aws_route53_record.apex_txt[0].records, "v=spf1 include:spf.brevo.com ~all")
    error_message = "Apex TXT must carry SPF including Brevo and ending in ~all."
  }

  assert {
    condition     = aws_route53_record.dmarc[0].name == "_dmarc.example.org"
    error_message = "DMARC lives at _dmarc."
  }

  assert {
    condition     = one(aws_route53_record.dmarc[0].records) == "v=DMARC1; p=none; rua=mailto:dmarc@example.org,mailto:reports@example.net; adkim=r; aspf=r"
    error_message = "DMARC record is malformed."
  }

  assert {
    condition     = aws_route53_record.dkim_cname["brevo1"].name == "brevo1._domainkey.example.org" && one(aws_route53_record.dkim_cname["brevo1"].records) == "b1.example-org.dkim.brevo.com"
    error_message = "DKIM CNAME brevo1 is wrong."
  }

  assert {
    condition     = contains(aws_route53_record.caa[0].records, "0 issue \"letsencrypt.org\"") && contains(aws_route53_record.caa[0].records, "0 issuewild \";\"")
    error_message = "CAA must allow Let's Encrypt and forbid wildcards."
  }

  assert {
    condition     = length(aws_route53_record.aaaa) == 0
    error_message = "No AAAA without enable_ipv6."
  }
}

run "long_dkim_key_is_split_into_255_character_strings" {
  command = plan

  variables {
    brevo_dkim_cnames = {}
    brevo_dkim_txt    = { mail = "k=rsa;p=${join("", [for i in range(40) : "ABCDEFGHIJ"])}" }
  }

  assert {
    condition     = length(split("\"\"", one(aws_route53_record.dkim_txt["mail"].records))) == 2
    error_message = "A 408-character DKIM value must become two strings."
  }
}

run "staging_adds_only_its_address" {
  command = plan

  variables {
    site_name             = "bookdesk-staging"
    manage_domain_records = false
    brevo_code            = null
    brevo_dkim_cnames     = {}
    dmarc_rua             = []
    enable_ipv6           = true
    ipv6_address          = "2001:db8::10"
  }

  assert {
    condition     = length(aws_route53_record.caa) + length(aws_route53_record.apex_txt) + length(aws_route53_record.dmarc) + length(aws_route53_record.dkim_cname) == 0
    error_message = "Only one environment may own the domain-wide records."
  }

  assert {
    condition     = aws_route53_record.aaaa[0].name == "bookdesk-staging.example.org"
    error_message = "AAAA record missing."
  }
}

run "rejects_spf_that_allows_everyone" {
  command = plan

  variables {
    spf_all = "+all"
  }

  expect_failures = [var.spf_all]
}

run "rejects_dkim_pointing_elsewhere" {
  command = plan

  variables {
    brevo_dkim_cnames = { brevo1 = "dkim.attacker.example" }
  }

  expect_failures = [var.brevo_dkim_cnames]
}
