"""The registration vault: contact details sealed for the Senior Clinical team.

`seal` is all the running service has (a public key). `unseal` needs the team's private
key and passphrase and is used only by the clinicians' command line.
"""
