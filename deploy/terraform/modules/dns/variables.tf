variable "zone_id" {
  description = "Route 53 hosted zone of the domain (created and delegated once by hand, see docs/infrastructure.md)."
  type        = string
}

variable "domain" {
  description = "The zone's domain, e.g. \"example.org\"; also the Brevo sending domain."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain must be a lower-case domain name without a trailing dot."
  }
}

variable "site_name" {
  description = "Host name of the site inside the domain (\"bookdesk\" gives bookdesk.example.org; \"\" puts the site on the apex)."
  type        = string
  default     = "bookdesk"
}

variable "ipv4_address" {
  description = "Public IPv4 of the app host (A record)."
  type        = string
}

variable "enable_ipv6" {
  description = "Publish an AAAA record. A plain flag rather than a null check on ipv6_address, because the address is only known after apply and count must be known at plan."
  type        = bool
  default     = false
}

variable "ipv6_address" {
  description = "Public IPv6 of the app host (AAAA record), used when enable_ipv6 is true."
  type        = string
  default     = null
}

variable "ttl" {
  description = "TTL in seconds of the site and mail records."
  type        = number
  default     = 300
}

variable "caa_issuers" {
  description = "Certificate authorities allowed to issue for the domain (CAA issue)."
  type        = list(string)
  default     = ["letsencrypt.org"]
}

variable "caa_iodef" {
  description = "Where CAs report refused requests (CAA iodef), e.g. \"mailto:security@example.org\"; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.caa_iodef == null || can(regex("^(mailto:|https://)", var.caa_iodef))
    error_message = "caa_iodef must start with mailto: or https://."
  }
}

variable "manage_domain_records" {
  description = "Whether this call owns the domain-wide records: CAA, the apex TXT set (Brevo code + SPF), DKIM and DMARC. Exactly one environment per domain does (production); others only add their site's A/AAAA."
  type        = bool
  default     = true
}

variable "brevo_code" {
  description = "Domain verification value Brevo shows for the domain, the whole \"brevo-code:...\" string."
  type        = string
  default     = null

  validation {
    condition     = var.brevo_code == null || can(regex("^brevo-code:[A-Za-z0-9]+$", var.brevo_code))
    error_message = "brevo_code must look like brevo-code:0123abcd...."
  }
}

variable "brevo_dkim_cnames" {
  description = "DKIM as Brevo shows it for new domains: CNAME records, selector => target, e.g. { brevo1 = \"b1.example-org.dkim.brevo.com\", brevo2 = \"b2.example-org.dkim.brevo.com\" }."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for target in values(var.brevo_dkim_cnames) : can(regex("\\.dkim\\.brevo\\.com\\.?$", target))])
    error_message = "DKIM CNAME targets must point into dkim.brevo.com."
  }
}

variable "brevo_dkim_txt" {
  description = "DKIM as Brevo shows it for older domains: TXT public keys, selector => \"k=rsa;p=...\" (usually selector \"mail\")."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in values(var.brevo_dkim_txt) : can(regex("^k=rsa;\\s*p=[A-Za-z0-9+/=]+$", key))])
    error_message = "DKIM TXT values must look like k=rsa;p=<base64 key>."
  }
}

variable "spf_includes" {
  description = "Domains whose senders SPF allows; Brevo's is spf.brevo.com. Add others that send for the domain."
  type        = list(string)
  default     = ["spf.brevo.com"]
}

variable "spf_all" {
  description = "What SPF says about every other sender: \"~all\" (soft fail, while DMARC is p=none) or \"-all\"."
  type        = string
  default     = "~all"

  validation {
    condition     = contains(["~all", "-all"], var.spf_all)
    error_message = "spf_all must be ~all or -all."
  }
}

variable "dmarc_policy" {
  description = "DMARC policy: start with none, move to quarantine, then reject once reports are clean."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "quarantine", "reject"], var.dmarc_policy)
    error_message = "dmarc_policy must be none, quarantine or reject."
  }
}

variable "dmarc_rua" {
  description = "Addresses that receive DMARC aggregate reports (plain addresses, mailto: is added)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.dmarc_rua : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", a))])
    error_message = "dmarc_rua takes plain e-mail addresses."
  }
}
