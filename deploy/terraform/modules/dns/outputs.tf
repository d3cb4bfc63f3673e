output "fqdn" {
  description = "Host name of the site (what ALLOWED_HOSTS and the TLS certificate name)."
  value       = local.fqdn
}

output "spf_record" {
  description = "The SPF value published at the apex."
  value       = local.spf_record
}

output "dmarc_record" {
  description = "The DMARC value published at _dmarc."
  value       = local.dmarc_record
}

output "caa_records" {
  description = "The CAA values published at the apex."
  value       = local.caa_records
}

output "dkim_names" {
  description = "Names of the DKIM records created."
  value       = concat([for r in aws_route53_record.dkim_cname : r.name], [for r in aws_route53_record.dkim_txt : r.name])
}
