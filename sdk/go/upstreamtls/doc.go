// Gateway-to-backend (upstream) TLS on Envoy Gateway: BackendTLSPolicy with system or custom CAs, or an Envoy Gateway Backend for self-signed backends; on EKS, an AWS Load Balancer Controller NLB that speaks TLS to the pods.
package upstreamtls
