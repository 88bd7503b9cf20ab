import { type AwsPlatformConfig, DEFAULT_AWS_PLATFORM } from "../src/index.js";

/** The multi-Region mode as the tests synthesize it: tables replicated to eu-central-1, failover between Regions. */
export const MULTI_REGION: AwsPlatformConfig = {
  ...DEFAULT_AWS_PLATFORM,
  domainName: "eu-west-1.api.wallet.example.com",
  hostedZone: { hostedZoneId: "Z0123456789EXAMPLE", zoneName: "wallet.example.com" },
  multiRegion: {
    replicas: [
      {
        region: "eu-central-1",
        kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
      },
    ],
  },
  regionalFailover: {
    publicName: "api.wallet.example.com",
    primary: { region: "eu-west-1", recordName: "eu-west-1.api.wallet.example.com" },
    secondary: { region: "eu-central-1", recordName: "eu-central-1.api.wallet.example.com" },
  },
};
