/* global process, console */
// Prints the HCL files (paths given as arguments) that `terraform fmt` would change.
// @cdktf/hcl-tools is hclwrite.Format compiled to WebAssembly: the formatter terraform fmt
// is built on, usable where no Terraform binary can be installed.
const fs = require("node:fs");
const { format } = require("@cdktf/hcl-tools");

(async () => {
  for (const path of process.argv.slice(2)) {
    const source = fs.readFileSync(path, "utf8");
    if ((await format(source)) !== source) {
      console.log(path);
    }
  }
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
