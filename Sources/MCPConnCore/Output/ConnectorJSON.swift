extension Connector {
    /// The connector as the CLI's JSON object; never includes credentials.
    public func json(includeTools: Bool = false) -> JSONValue {
        var o = JSONObject()
        o["id"] = .int(id ?? 0)
        o["user_id"] = .int(userID)
        o["name"] = .string(name)
        o["description"] = .optional(description)
        o["server_url"] = .string(serverURL)
        o["connector_type"] = .string(connectorType)
        o["auth_type"] = .string(authType.rawValue)
        o["has_credentials"] = .bool(hasCredentials)
        o["is_active"] = .bool(isActive)
        o["is_verified"] = .bool(isVerified)
        o["tool_count"] = .int(toolCount)
        o["last_verified_at"] = Timestamp.json(lastVerifiedAt)
        o["last_error"] = .optional(lastError)
        o["protocol_version"] = .optional(protocolVersion)
        o["protocol_era"] = .optional(protocolEra)
        o["transport"] = .optional(transport)
        // A stdio connector's launch; null for HTTP. Environment variables by name only: values are sealed.
        o["command"] = .optional(command)
        o["args"] = isStdio ? .array(arguments.map { .string($0) }) : .null
        o["cwd"] = .optional(workingDirectory)
        o["env"] = isStdio ? .array(environmentNames.map { .string($0) }) : .null
        o["server_name"] = .optional(serverName)
        o["server_version"] = .optional(serverVersion)
        o["token_expires_at"] = Timestamp.json(tokenExpiresAt)
        o["token_refreshable"] = .bool(tokenRefreshable)
        o["created_at"] = .string(Timestamp.iso8601(createdAt))
        o["updated_at"] = .string(Timestamp.iso8601(updatedAt))
        if includeTools { o["discovered_tools"] = .array(tools) }
        return .object(o)
    }
}
