"""Mock MailChimp Marketing v3 and HubSpot CRM v3 APIs over one deterministic synthetic world.

`world` holds the model (people, campaigns, email activity, deals), `mailchimp` and `hubspot` render
it as the real APIs do, `server` serves it, `truth` states what a correct pipeline must find, `cli`
runs it all.
"""
