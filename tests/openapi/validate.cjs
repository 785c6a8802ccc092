// Validates the controller's OpenAPI document (the file given) as OpenAPI 3.1 with
// @apidevtools/swagger-parser, which checks it against the specification's schema and resolves
// every $ref. Exits non-zero with the parser's message when it is not valid.
const SwaggerParser = require("@apidevtools/swagger-parser");

const file = process.argv[2];
SwaggerParser.validate(file)
  .then((api) => {
    const operations = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    console.log(`valid OpenAPI ${api.openapi}: ${Object.keys(api.paths).length} paths, ${operations} operations`);
  })
  .catch((error) => {
    console.error(`invalid OpenAPI document ${file}: ${error.message}`);
    process.exit(1);
  });
